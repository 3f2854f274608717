"""collectd's write_kafka plugin (Debian collectd-core) under kotel.

collectd runs in the foreground with its load plugin read every 0.2 s and
write_kafka writing each value list as JSON to a topic
(rd_kafka_produce from collectd's write threads; it never polls, so no
delivery report callback runs). Every message it sent has a send span with
its partition and offset; a kotel-traced consumer (kclient, the poll API)
finds that span's traceparent in each message and its process span is
the child of the send span."""

import os
import signal
import subprocess
import tempfile

from compat_lib import check_consumed_by_offset, no_errors
from kotel_test import (KCLIENT, TIMEOUT_SCALE, Broker, Receiver, agent_env, named,
                        of_service, parse_lines, run, stats)

COLLECTD = "/usr/sbin/collectd"
MIN = 3

CONF = """\
BaseDir "{dir}"
PIDFile "{dir}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 0.2
AutoLoadPlugin false
LoadPlugin load
LoadPlugin write_kafka
<Plugin write_kafka>
  Property "bootstrap.servers" "{bootstrap}"
  Property "linger.ms" "5"
  <Topic "collectd">
    Format JSON
  </Topic>
</Plugin>
"""


def test_collectd_write_kafka():
    with Broker(["collectd:2"]) as b, Receiver() as r, tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "collectd.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(dir=d, bootstrap=b.bootstrap))
        p = subprocess.Popen([COLLECTD, "-f", "-C", conf], env=agent_env(r, "collectd"),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            spans = r.wait_for(lambda s: len(named(s, "send collectd")) >= MIN, timeout=60)
        finally:
            # SIGTERM: collectd shuts its plugins down (write_kafka destroys
            # its client) and exits.
            p.send_signal(signal.SIGTERM)
            try:
                out, _ = p.communicate(timeout=60 * TIMEOUT_SCALE)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
        assert p.returncode == 0, "collectd exited %s:\n%s" % (p.returncode, out[-3000:])
        assert len(named(spans, "send collectd")) >= MIN, out[-3000:]
        # Every span collectd made, including its last writes', was
        # exported by its exit (the receiver records a request before
        # answering it).
        st = stats(out)
        assert st and st["exported"] == st["started"] and st["dropped"] == 0, out[-3000:]
        spans = r.wait_for(lambda s: len(of_service(s, "collectd")) >= st["exported"])
        assert len(of_service(spans, "collectd")) == st["exported"]
        n = len(named(of_service(spans, "collectd"), "send collectd"))
        assert n == st["exported"], "collectd made spans other than send spans"
        c = run([KCLIENT, "-b", b.bootstrap, "consume", "-a", "poll", "-t", "collectd",
                 "-n", str(n), "-g", "cg"], agent_env(r, "collectd-reader"))
        msgs = parse_lines(c.stdout, "msg")
        assert len(msgs) == n, c.stdout
        spans = r.wait_for(lambda s: len(named(s, "process collectd")) >= n, timeout=30)
        no_errors(spans)
        check_consumed_by_offset(spans, "collectd", "collectd-reader", "collectd", msgs)
        for s in named(spans, "send collectd"):
            assert s["attributes"]["messaging.operation.type"] == "send", s

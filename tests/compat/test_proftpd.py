"""proftpd's mod_kafka (Debian proftpd-core + proftpd-mod-kafka) under
kotel.

proftpd runs in the foreground (-n) on a loopback port with
KafkaLogOnEvent ALL: every event of a session is logged as JSON to the
topic "ftpcmds" (rd_kafka_produce from the session's process, which
proftpd forks per connection; rd_kafka_poll serves its delivery report
callback). A client (Python's ftplib) connects and tries a login that is
refused: CONNECT, USER and PASS each get a send span with partition and
offset, and a kotel-traced consumer (kclient, the poll API) finds that
span's traceparent in each message and continues its trace.

A session process ends with _exit(2) (pr_session_end), so no exit handler
exports what it still holds: the test waits for the spans while the
session is open, then QUITs. The QUIT and EXIT messages still carry a
traceparent of their own; their send spans, made as the session ends,
arrive only if an export happens before the _exit."""

import ftplib
import os
import re
import signal
import subprocess
import tempfile
import threading

from compat_lib import check_consumed_by_offset, no_errors, tp_of
from exporter_helpers import free_port
from kotel_test import (KCLIENT, TIMEOUT_SCALE, Broker, Receiver, agent_env, named,
                        of_service, parse_lines, run, wait_until)

# The events a session with a refused login logs (mod_kafka's names).
EVENTS = ("CONNECT", "USER", "PASS", "QUIT", "EXIT")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")

PROFTPD = "/usr/sbin/proftpd"
TOPIC = "ftpcmds"

CONF = """\
ServerType standalone
ServerName "kotel-compat"
Port {port}
DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
PidFile {dir}/proftpd.pid
ScoreboardFile {dir}/proftpd.scoreboard
WtmpLog off
DelayEngine off
UseReverseDNS off
ModulePath /usr/lib/proftpd
LoadModule mod_kafka.c
KafkaEngine on
KafkaLog {dir}/kafka.log
KafkaBroker {bootstrap}
LogFormat {topic} "%h %u %m %s"
KafkaLogOnEvent ALL {topic}
"""


def refused_login(port):
    """An open session after a refused login: CONNECT, USER, PASS."""
    ftp = ftplib.FTP()
    # proftpd logs its STARTUP line before it listens: the session's own
    # connection is retried until the port answers (no probe session).
    assert wait_until(lambda: connect(ftp, port), timeout=30), "proftpd does not listen"
    try:
        ftp.login("kotel", "not-a-password")
        raise AssertionError("the login was accepted")
    except ftplib.error_perm as e:
        assert str(e).startswith("530"), e
    return ftp


def connect(ftp, port):
    try:
        ftp.connect("127.0.0.1", port, timeout=30 * TIMEOUT_SCALE)
        return True
    except ConnectionRefusedError:
        return False


class Output:
    """A process's output, read in a thread; wait() for a line."""

    def __init__(self, proc):
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc):
        for line in proc.stdout:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait(self, text, timeout=30):
        with self.cond:
            return self.cond.wait_for(lambda: any(text in l for l in self.lines),
                                      timeout * TIMEOUT_SCALE)

    def text(self):
        with self.cond:
            return "".join(self.lines)


def test_proftpd_mod_kafka():
    with Broker([TOPIC + ":1"]) as b, Receiver() as r, tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        port = free_port()
        conf = os.path.join(d, "proftpd.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(dir=d, port=port, bootstrap=b.bootstrap, topic=TOPIC))
        p = subprocess.Popen([PROFTPD, "-n", "-c", conf], env=agent_env(r, "proftpd"),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = Output(p)
        try:
            assert out.wait("standalone mode STARTUP"), out.text()[-3000:]
            ftp = refused_login(port)
            # CONNECT, USER, PASS, exported by the live session process.
            spans = r.wait_for(lambda s: len(named(s, "send " + TOPIC)) >= 3, timeout=30)
            ftp.quit()
            # The session's QUIT and EXIT events are in the topic once it
            # has logged out.
            assert out.wait("session closed"), out.text()[-3000:]
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(60 * TIMEOUT_SCALE)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            out.thread.join(10)
        assert p.returncode == 0, "proftpd exited %s:\n%s" % (p.returncode, out.text()[-3000:])
        assert len(named(spans, "send " + TOPIC)) >= 3, out.text()[-3000:]
        c = run([KCLIENT, "-b", b.bootstrap, "consume", "-a", "poll", "-t", TOPIC,
                 "-n", str(len(EVENTS)), "-g", "ftpg"], agent_env(r, "ftp-reader"))
        msgs = parse_lines(c.stdout, "msg")
        assert len(msgs) == len(EVENTS), c.stdout
        spans = r.wait_for(lambda s: len(named(s, "process " + TOPIC)) >= len(EVENTS))
        no_errors(spans)
        msgs.sort(key=lambda m: int(m["offset"]))
        # The events while the session was open: each continued.
        check_consumed_by_offset(spans, "proftpd", "ftp-reader", TOPIC, msgs[:3])
        # Every message has a traceparent, a trace of its own.
        tps = [m["traceparent"] for m in msgs]
        assert all(TRACEPARENT.match(t) for t in tps), tps
        assert len({t.split("-")[1] for t in tps}) == len(EVENTS), tps
        for s in named(of_service(spans, "proftpd"), "send " + TOPIC):
            assert tp_of(s) in tps, s

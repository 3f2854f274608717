#!/usr/bin/python3
"""A plain confluent_kafka producer (it knows nothing of kotel).

  py_produce.py BOOTSTRAP TOPIC COUNT [--os-exit]

Produces keys k0..k<COUNT-1> with a delivery callback per message and
prints one line per callback, in callback order:
  dr key=K err=E partition=P offset=O
(confluent_kafka 1.7 gives delivery reports no headers). --os-exit ends
with os._exit() after the flush: no exit handler runs and the producer is
never destroyed, as in a multiprocessing worker."""

import os
import sys

from confluent_kafka import Producer


def main():
    bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                  "client.id": "pyclient"})
    calls = []

    def on_delivery(err, msg):
        calls.append(msg.key())
        print("dr key=%s err=%s partition=%d offset=%d" % (
            msg.key().decode(), err.name() if err else "NO_ERROR", msg.partition(),
            msg.offset() if msg.offset() is not None else -1), flush=True)

    for i in range(count):
        p.produce(topic, key=b"k%d" % i, value=b"payload-%d" % i, on_delivery=on_delivery)
        p.poll(0)
    left = p.flush(30)
    print("delivered=%d left=%d" % (len(calls), left), flush=True)
    return 0 if len(calls) == count and left == 0 else 1


if __name__ == "__main__":
    rc = main()
    if "--os-exit" in sys.argv[4:]:
        os._exit(rc)
    sys.exit(rc)

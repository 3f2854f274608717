#!/usr/bin/python3
"""enricher: the demo's middle service. An ordinary confluent-kafka program
that knows nothing of kotel: it consumes orders (JSON), adds the price and
total to each, and produces the enriched order, with the same key, to
another topic, until SIGINT or SIGTERM; then it flushes, leaves the group
and exits 0. An order may name the partition of that topic it goes to
("partition", an integer); one that names a partition the topic lacks is
not delivered, which the enricher reports and goes on.

  enricher.py BOOTSTRAP IN_TOPIC OUT_TOPIC [GROUP]
"""

import json
import signal
import sys

from confluent_kafka import Consumer, KafkaException, Producer

PRICES = {"coffee": 3.5, "bagel": 2.25, "tea": 2.75}


def enrich(order):
    order = dict(order)
    order["unit_price"] = PRICES.get(order.get("item"), 1.0)
    order["total"] = round(order["unit_price"] * int(order.get("qty", 1)), 2)
    return order


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    bootstrap, in_topic, out_topic = sys.argv[1:4]
    group = sys.argv[4] if len(sys.argv) == 5 else "enricher"

    running = True

    def stop(signum, frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "client.id": "enricher", "auto.offset.reset": "earliest"})
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": "enricher",
                         "linger.ms": 5})

    def delivered(err, msg):
        if err:
            print("enricher: delivery of order %s failed: %s" % (msg.key().decode(), err.str()),
                  flush=True)
        else:
            print("enricher: order %s enriched -> %s [%d] at offset %d" % (
                msg.key().decode(), msg.topic(), msg.partition(), msg.offset()), flush=True)

    consumer.subscribe([in_topic])
    while running:
        msg = consumer.poll(0.2)
        if msg is None:
            producer.poll(0)
            continue
        if msg.error():
            print("enricher: %s" % msg.error(), file=sys.stderr, flush=True)
            continue
        try:
            order = json.loads(msg.value())
        except ValueError:
            print("enricher: skipping malformed order at offset %d" % msg.offset(),
                  file=sys.stderr, flush=True)
            continue
        route = {}
        if isinstance(order.get("partition"), int):
            route["partition"] = order["partition"]
        try:
            producer.produce(out_topic, key=msg.key(), value=json.dumps(enrich(order)).encode(),
                             on_delivery=delivered, **route)
        except KafkaException as e:
            # The partition is checked at once when the topic's metadata
            # is known, else at delivery (delivered() reports it).
            print("enricher: order %s not sent: %s" % (msg.key().decode(), e.args[0].str()),
                  flush=True)
        producer.poll(0)  # serve delivery callbacks

    left = producer.flush(10)
    consumer.close()
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A librdkafka client written with Python's ctypes (it knows nothing of
kotel): it binds every function with dlsym on librdkafka's handle, as FFI
clients do, never through the dynamic linker. It does what kclient does,
with the same configuration, so the two can be compared span for span:

  py_ctypes.py BOOTSTRAP produce TOPIC COUNT   (as kclient produce -a produce)
  py_ctypes.py BOOTSTRAP consume TOPIC COUNT   (as kclient consume -a poll)

Output lines as kclient's ("dr ...", "msg ...", "delivered=N failed=N")."""

import ctypes
import sys
import time
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int, c_int32,
                    c_int64, c_size_t, c_void_p)

PRODUCER, CONSUMER = 0, 1
MSG_F_COPY = 0x2
PARTITION_UA = -1


class Message(Structure):
    _fields_ = [("err", c_int), ("rkt", c_void_p), ("partition", c_int32),
                ("payload", c_void_p), ("len", c_size_t), ("key", c_void_p),
                ("key_len", c_size_t), ("offset", c_int64), ("_private", c_void_p)]


DR_CB = CFUNCTYPE(None, c_void_p, POINTER(Message), c_void_p)

lib = ctypes.CDLL("librdkafka.so.1")


def fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


conf_new = fn("rd_kafka_conf_new", c_void_p)
conf_set = fn("rd_kafka_conf_set", c_int, c_void_p, c_char_p, c_char_p, c_char_p, c_size_t)
set_dr = fn("rd_kafka_conf_set_dr_msg_cb", None, c_void_p, DR_CB)
new = fn("rd_kafka_new", c_void_p, c_int, c_void_p, c_char_p, c_size_t)
destroy = fn("rd_kafka_destroy", None, c_void_p)
topic_new = fn("rd_kafka_topic_new", c_void_p, c_void_p, c_char_p, c_void_p)
topic_destroy = fn("rd_kafka_topic_destroy", None, c_void_p)
produce = fn("rd_kafka_produce", c_int, c_void_p, c_int32, c_int, c_char_p, c_size_t,
             c_char_p, c_size_t, c_void_p)
flush = fn("rd_kafka_flush", c_int, c_void_p, c_int)
err2name = fn("rd_kafka_err2name", c_char_p, c_int)
headers = fn("rd_kafka_message_headers", c_int, POINTER(Message), POINTER(c_void_p))
header_get_last = fn("rd_kafka_header_get_last", c_int, c_void_p, c_char_p,
                     POINTER(c_void_p), POINTER(c_size_t))
tpl_new = fn("rd_kafka_topic_partition_list_new", c_void_p, c_int)
tpl_add = fn("rd_kafka_topic_partition_list_add", c_void_p, c_void_p, c_char_p, c_int32)
tpl_destroy = fn("rd_kafka_topic_partition_list_destroy", None, c_void_p)
poll_set_consumer = fn("rd_kafka_poll_set_consumer", c_int, c_void_p)
subscribe = fn("rd_kafka_subscribe", c_int, c_void_p, c_void_p)
consumer_poll = fn("rd_kafka_consumer_poll", POINTER(Message), c_void_p, c_int)
message_destroy = fn("rd_kafka_message_destroy", None, POINTER(Message))
consumer_close = fn("rd_kafka_consumer_close", c_int, c_void_p)

counts = {"delivered": 0, "failed": 0}


def text(ptr, n):
    return ctypes.string_at(ptr, n).decode() if ptr else ""


def traceparent(m):
    h, v, n = c_void_p(), c_void_p(), c_size_t()
    if headers(m, byref(h)) == 0 and header_get_last(h, b"traceparent", byref(v), byref(n)) == 0:
        return text(v.value, n.value)
    return "-"


@DR_CB
def on_delivery(rk, m, opaque):
    m0 = m.contents
    counts["failed" if m0.err else "delivered"] += 1
    print("dr key=%s err=%s partition=%d offset=%d traceparent=%s" % (
        text(m0.key, m0.key_len), err2name(m0.err).decode(), m0.partition, m0.offset,
        traceparent(m)), flush=True)


def base_conf(bootstrap):
    c = conf_new()
    for k, v in (("bootstrap.servers", bootstrap), ("client.id", "kclient"),
                 ("log_level", "3")):
        assert conf_set(c, k.encode(), v.encode(), None, 0) == 0, k
    return c


def client(kind, conf):
    err = ctypes.create_string_buffer(256)
    rk = new(kind, conf, err, 256)
    if not rk:
        sys.exit("rd_kafka_new: " + err.value.decode())
    return rk


def cmd_produce(bootstrap, topic, count):
    c = base_conf(bootstrap)
    conf_set(c, b"linger.ms", b"5", None, 0)
    set_dr(c, on_delivery)
    rk = client(PRODUCER, c)
    rkt = topic_new(rk, topic.encode(), None)
    for i in range(count):
        key, val = b"k%d" % i, b"payload-%d" % i
        assert produce(rkt, PARTITION_UA, MSG_F_COPY, val, len(val), key, len(key), None) == 0
    topic_destroy(rkt)
    flush(rk, 10000)
    destroy(rk)
    print("delivered=%d failed=%d" % (counts["delivered"], counts["failed"]), flush=True)
    return 0 if counts["delivered"] == count else 1


def cmd_consume(bootstrap, topic, count):
    c = base_conf(bootstrap)
    for k, v in (("group.id", "kclient"), ("auto.offset.reset", "earliest"),
                 ("enable.partition.eof", "false")):
        conf_set(c, k.encode(), v.encode(), None, 0)
    rk = client(CONSUMER, c)
    tpl = tpl_new(1)
    tpl_add(tpl, topic.encode(), PARTITION_UA)
    poll_set_consumer(rk)
    assert subscribe(rk, tpl) == 0
    tpl_destroy(tpl)
    seen, deadline = 0, time.time() + 30
    while seen < count and time.time() < deadline:
        m = consumer_poll(rk, 200)
        if not m:
            continue
        m0 = m.contents
        if not m0.err:
            print("msg key=%s partition=%d offset=%d traceparent=%s" % (
                text(m0.key, m0.key_len), m0.partition, m0.offset, traceparent(m)),
                flush=True)
            seen += 1
        message_destroy(m)
    consumer_close(rk)
    destroy(rk)
    print("consumed=%d" % seen, flush=True)
    return 0 if seen == count else 1


def main():
    bootstrap, cmd, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    return (cmd_produce if cmd == "produce" else cmd_consume)(bootstrap, topic, count)


if __name__ == "__main__":
    sys.exit(main())

"""The waits the test collectors (otlp_receiver.Receiver over HTTP,
otlp_grpc_receiver.GrpcReceiver over gRPC) offer, written once: a
collector keeps what it decoded in lists (spans, metrics, logs, requests,
...) guarded by its threading.Condition self.cond, notified on every
request."""
import os
import time

# Slow runtimes (sanitizers, valgrind) scale every wait by this.
TIMEOUT_SCALE = float(os.environ.get("KOTEL_TIMEOUT_SCALE", "1") or 1)


class CollectorWaits:
    def _wait(self, name, pred, timeout):
        """Waits until pred(self.<name>) is true or @timeout (scaled)
        passes; returns a copy of the list either way."""
        deadline = time.time() + timeout * TIMEOUT_SCALE
        with self.cond:
            while not pred(getattr(self, name)) and time.time() < deadline:
                self.cond.wait(max(0.0, min(0.2, deadline - time.time())))
            return list(getattr(self, name))

    def wait_for(self, pred, timeout=20.0):
        """Waits until pred(spans) is true; returns the spans either way."""
        return self._wait("spans", pred, timeout)

    def wait_spans(self, n, timeout=20.0):
        return self.wait_for(lambda s: len(s) >= n, timeout)

    def wait_metrics(self, pred, timeout=20.0):
        """Waits until pred(metric points) is true; returns them either way."""
        return self._wait("metrics", pred, timeout)

    def wait_logs(self, pred, timeout=20.0):
        """Waits until pred(log records) is true; returns them either way."""
        return self._wait("logs", pred, timeout)

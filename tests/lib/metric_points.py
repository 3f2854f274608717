"""Reading the metric points the test collectors decode (one dict a data
point: name, attributes, time, value or count, ...), for the metrics
tests over protobuf and JSON alike."""


def latest(points, name):
    """Cumulative points: the last one of each attribute set."""
    last = {}
    for p in points:
        if p["name"] != name:
            continue
        key = tuple(sorted(p["attributes"].items()))
        if key not in last or p["time"] >= last[key]["time"]:
            last[key] = p
    return list(last.values())


def total(points, name, field="value"):
    return sum(p[field] for p in latest(points, name))

"""What the client tests send and expect, shared by both Python clients so
records written by one are checked the same way everywhere."""
import json
import os
import time

N = 100
COMMIT_AT = 60
# Record timestamps: recent (an old one would fall to the default 7-day
# retention at the restart) and the same across phases, so run.sh fixes it.
BASE_TS = int(os.environ.get("STROM_TEST_BASE_TS") or (int(time.time()) - 3600) * 1000)
STROM_N = 20
# The codec the clients' producers use (codecs.sh sets it per case).
COMPRESSION = os.environ.get("STROM_TEST_COMPRESSION") or None


def record(i, tag):
    """(key, value, headers, timestamp) of record i written by client `tag`."""
    return (
        f"k{i}".encode(),
        f"v{i}-{tag}".encode(),
        [("h1", f"x{i}".encode()), ("client", tag.encode())],
        BASE_TS + i,
    )


def check_record(i, tag, key, value, headers, timestamp):
    want = record(i, tag)
    got = (key, value, [(k, bytes(v)) for k, v in headers], timestamp)
    assert got == want, f"record {i}: got {got!r}, want {want!r}"


def strom_record(i):
    """What `strom produce -K : -H src=strom -H kind=cli` made of line i."""
    return (f"sk{i}".encode(), f"sv{i}".encode(), [("src", b"strom"), ("kind", b"cli")])


def check_strom_record(i, key, value, headers):
    got = (key, value, [(k, bytes(v)) for k, v in headers])
    assert got == strom_record(i), f"record {i}: got {got!r}, want {strom_record(i)!r}"


def verify_json(path, tag):
    """Checks `strom consume --output json` output of a client's topic."""
    with open(path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    assert len(lines) == N, f"strom consume printed {len(lines)} records, want {N}"
    for i, env in enumerate(lines):
        key, value, headers, ts = record(i, tag)
        assert env["offset"] == i, env
        assert env["key"] == key.decode(), env
        assert env["value"] == value.decode(), env
        assert env["timestamp"] == ts, env
        got = [(h["key"], h["value"]) for h in env["headers"]]
        assert got == [(k, v.decode()) for k, v in headers], env
    print(f"{len(lines)} records intact")

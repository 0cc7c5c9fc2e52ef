"""Artifact throughput: upload with sha256 and verify, beside plain fsspec put/get.

One file (512 MiB by default) goes to a local folder (file://) and to S3 served by
moto's standalone server on 127.0.0.1, in the same run:

- plain put      fsspec ``put_file`` (no checksum)
- upload+hash    modelreg's upload: the bytes move and their sha256 is computed
- plain get      fsspec ``get_file`` (no checksum)
- verify         modelreg's verify: read back and check size and sha256
- fill (read)    ``verify --fill``'s read of an artifact recorded as given (no size,
                 no sha256): the bytes read and hashed, to be recorded
- pull           modelreg's pull: download to a file and check it on the way

The overhead is each modelreg figure against its plain twin (upload vs put,
verify and pull vs get). Target: at most 15 %. "sha256 alone" is the local file
read and hashed with nothing else: no transfer with a checksum can beat it, and
on a local disk the kernel copies faster than one core computes SHA-256.

    .venv/bin/python benchmarks/artifacts_bench.py [--size-mib 512] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelreg.artifacts import ArtifactStore  # noqa: E402
from modelreg.manifest import Artifact  # noqa: E402
from tests.artifacts.stores import start_s3  # noqa: E402

WORK = ROOT / "benchmarks" / ".work" / "artifacts"


def make_file(path: Path, size: int) -> None:
    if path.is_file() and path.stat().st_size == size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 16 << 20)
            fh.write(os.urandom(n))
            left -= n


def timed(fn: Callable[[], object], repeat: int, cleanup: Callable[[], object]) -> float:
    """Median wall time of ``repeat`` runs, ``cleanup`` after each (not timed)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        cleanup()
    return statistics.median(times)


def bench(label: str, store: ArtifactStore, src: Path, repeat: int) -> list[tuple[str, float]]:
    fs = store.fs
    size = src.stat().st_size
    plain = f"{store.root}/plain/{src.name}"
    plain_path = fs._strip_protocol(plain)
    local_out = WORK / "out.bin"

    def rm_remote(uri: str) -> Callable[[], None]:
        def rm() -> None:
            p = fs._strip_protocol(uri)
            if fs.exists(p):
                fs.rm_file(p)

        return rm

    def rm_local() -> None:
        for p in local_out.parent.glob("out*"):
            if p.is_file():
                p.unlink()

    if "s3" not in store.root:
        fs.makedirs(fs._parent(plain_path), exist_ok=True)
    put = timed(lambda: fs.put_file(str(src), plain_path), repeat, rm_remote(plain))

    uploads: list[str] = []

    def upload() -> None:
        uploads.append(store.batch().add(f"m-{uuid.uuid4().hex[:6]}", 1, "model", src).uri)

    def drop_upload() -> None:
        rm_remote(uploads[-1])()

    up = timed(upload, repeat, drop_upload)

    # one stored copy with its checksum, for the reading side
    artifact = store.batch().add("bench", 1, "model", src)
    get = timed(
        lambda: fs.get_file(fs._strip_protocol(artifact.uri), str(local_out)), repeat, rm_local
    )
    ver = timed(lambda: store.verify([("bench", artifact)]), repeat, lambda: None)
    results = store.verify([("bench", artifact)])
    assert results[0].ok, results[0]
    # recorded as given (no size, no sha256): what `verify --fill` reads to record them
    given = Artifact(uri=artifact.uri)
    fill = timed(lambda: store.verify([("bench", given)], measure=True), repeat, lambda: None)
    assert store.verify([("bench", given)], measure=True)[0].measured == artifact
    pull = timed(lambda: store.pull(artifact, local_out), repeat, rm_local)
    rm_remote(artifact.uri)()

    def sha_alone() -> None:
        with open(src, "rb") as fh:
            hashlib.file_digest(fh, "sha256")

    floor = timed(sha_alone, repeat, lambda: None)
    mib = size / (1 << 20)
    rows = [
        ("sha256 alone", floor),
        ("plain put", put),
        ("upload+hash", up),
        ("plain get", get),
        ("verify", ver),
        ("fill (read)", fill),
        ("pull", pull),
    ]
    print(f"\n{label}: {mib:.0f} MiB, median of {repeat}")
    print(f"  {'operation':<12} {'seconds':>8} {'MiB/s':>8}  overhead")
    twins = {"upload+hash": put, "verify": get, "fill (read)": get, "pull": get}
    for name, t in rows:
        over = f"{(t / twins[name] - 1) * 100:+.1f} %" if name in twins else ""
        if name == "sha256 alone":
            over = "(the local file, read and hashed: the floor of any checksum)"
        print(f"  {name:<12} {t:8.2f} {mib / t:8.0f}  {over}")
    return rows


def bench_many(label: str, store: ArtifactStore, count: int, size: int = 64 * 1024) -> None:
    """``verify`` over many small artifacts: one at a time, then concurrently."""
    import hashlib

    from modelreg.manifest import Artifact

    fs = store.fs
    items = []
    for i in range(count):
        data = os.urandom(size)
        uri = f"{store.root}/many/{i}/model/m.bin"
        path = fs._strip_protocol(uri)
        if "s3" not in store.root:
            fs.makedirs(fs._parent(path), exist_ok=True)
        fs.pipe_file(path, data)
        items.append(
            (f"m{i}", Artifact(uri=uri, sha256=hashlib.sha256(data).hexdigest(), size=size))
        )
    print(f"\n{label}: verify {count} artifacts of {size // 1024} KiB")
    for workers, quick in ((1, False), (8, False), (8, True)):
        start = time.perf_counter()
        results = store.verify(items, workers=workers, quick=quick)
        took = time.perf_counter() - start
        assert all(r.ok for r in results)
        what = "quick (size)" if quick else "sha256"
        print(f"  {workers} at a time, {what:<12} {took:6.2f} s  {count / took:7.0f} artifacts/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure on file://")
    parser.add_argument("--s3-repeat", type=int, default=1, help="runs per figure on s3://")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--many", type=int, default=500, help="small artifacts for verify")
    args = parser.parse_args()

    src = WORK / f"src-{args.size_mib}.bin"
    make_file(src, args.size_mib << 20)
    local_root = WORK / "store"
    shutil.rmtree(local_root, ignore_errors=True)
    bench("file://", ArtifactStore(local_root.as_uri()), src, args.repeat)
    bench_many("file://", ArtifactStore(local_root.as_uri()), args.many)
    shutil.rmtree(local_root, ignore_errors=True)
    if args.skip_s3:
        return
    server = start_s3()  # the tests' moto server; the benchmark talks to it directly
    url = f"http://127.0.0.1:{server.port}"
    try:
        server.client().create_bucket(Bucket="bench")
        store = ArtifactStore("s3://bench/models", {"endpoint_url": url})
        bench("s3:// (moto on 127.0.0.1)", store, src, args.s3_repeat)
        bench_many("s3:// (moto on 127.0.0.1)", store, args.many)
    finally:
        server.stop()


if __name__ == "__main__":
    main()

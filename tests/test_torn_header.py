"""The newest segment cut inside its header, and what fdb-check --salvage says it dropped.

A copy of a live data directory taken while a segment was being created, or a file system that
did not keep the order of the header's fsync and the manifest's rename, can leave the newest
segment shorter than its 40-byte header (`truncate -s 17` of the last .fdb). It holds no record,
so it is a torn tail (docs/format.md, recovery policy): the server starts, keeps everything the
earlier segments hold, and writes the header whole again; fdb-check --salvage repairs it too.
An earlier segment that short stays Corruption.
"""

import os
import shutil

from durability_util import (SEGMENT_HEADER_SIZE, copy_data_dir, durable, fdb_check,  # noqa: F401
                             fdb_only, live_segment_paths, offsets_named, parse_segment,
                             run_server_expecting_exit, truncate, flip_byte)

N_OLD = 12  # keys written before the restart: in the earlier segment
N_NEW = 5   # keys written after it: in the newest segment, lost when it is cut


def _two_segments(durable):
    s = durable("always")
    c = s.client()
    for i in range(N_OLD):
        assert c.set(f"old:{i}", f"v{i}") is True
    s.restart("kill9")  # a restart starts a new segment (docs/format.md, write protocol 3)
    c = s.client()
    for i in range(N_NEW):
        assert c.set(f"new:{i}", f"w{i}") is True
    s.kill9()
    segs = live_segment_paths(s.dir)
    assert len(segs) >= 2, f"expected two live segments, got {segs}"
    return s, segs


@fdb_only
def test_start_after_newest_segment_cut_at_every_header_length(durable, tmp_path):
    s, segs = _two_segments(durable)
    newest = segs[-1]
    seg_name = os.path.basename(newest)
    work = tmp_path / "cuts"
    work.mkdir()
    failures = []
    for cut in range(0, SEGMENT_HEADER_SIZE + 1):
        d = str(work / f"cut-{cut}")
        copy_data_dir(s.dir, d)
        truncate(os.path.join(d, seg_name), cut)
        srv = durable("always", data_dir=d, start=False)
        try:
            srv.start()
        except AssertionError as e:
            failures.append(f"cut at {cut}: the server did not start: {str(e)[-600:]}")
            shutil.rmtree(d)
            continue
        c = srv.client()
        old = c.mget([f"old:{i}" for i in range(N_OLD)])
        new = c.mget([f"new:{i}" for i in range(N_NEW)])
        if old != [f"v{i}" for i in range(N_OLD)] or any(v is not None for v in new):
            failures.append(f"cut at {cut}: old {old}, new {new}")
        if cut < SEGMENT_HEADER_SIZE and seg_name not in srv.log_text():
            failures.append(f"cut at {cut}: the server did not report the torn header:\n"
                            f"{srv.log_text()}")
        if cut % 8 == 1 or cut == SEGMENT_HEADER_SIZE - 1:
            # The repair is for good: a write after it survives another crash, the repaired
            # segment is now an earlier one, and the directory checks clean.
            c.set("after", "yes")
            srv.kill9()
            if os.path.getsize(os.path.join(d, seg_name)) != SEGMENT_HEADER_SIZE:
                failures.append(f"cut at {cut}: {seg_name} was not given a whole header")
            rc, out = fdb_check(d)
            if rc != 0:
                failures.append(f"cut at {cut}: fdb-check after recovery rc={rc}:\n{out}")
            srv.start()
            c = srv.client()
            if c.get("after") != "yes" or c.get(f"old:{N_OLD - 1}") != f"v{N_OLD - 1}":
                failures.append(f"cut at {cut}: lost data after the second start")
        srv.kill9()
        shutil.rmtree(d)
    assert not failures, f"{len(failures)} failures, e.g.:\n" + "\n".join(failures[:6])


@fdb_only
def test_salvage_repairs_newest_segment_cut_inside_header(durable):
    s, segs = _two_segments(durable)
    newest = segs[-1]
    seg_name = os.path.basename(newest)
    truncate(newest, 17)
    rc, out = fdb_check(s.dir)
    assert rc == 1 and seg_name in out and "segment header incomplete" in out, out
    assert os.path.getsize(newest) == 17, "fdb-check without --salvage changed the file"
    rc, out = fdb_check(s.dir, salvage=True)
    assert rc == 0, f"fdb-check --salvage of a cut header: rc={rc}\n{out}"
    assert "0 intact records dropped" in out, out
    assert os.path.getsize(newest) == SEGMENT_HEADER_SIZE
    rc, out = fdb_check(s.dir)
    assert rc == 0, f"fdb-check after --salvage is not clean:\n{out}"
    s.start()
    c = s.client()
    assert c.dbsize() == N_OLD
    assert c.get(f"old:{N_OLD - 1}") == f"v{N_OLD - 1}"


@fdb_only
def test_earlier_segment_cut_inside_header_refuses_start(durable):
    s, segs = _two_segments(durable)
    earlier = segs[-2]
    truncate(earlier, 17)
    rc, out, stdout = run_server_expecting_exit(s.dir, timeout=10)
    assert rc not in (None, 0), f"the server started with a cut earlier segment:\n{out}{stdout}"
    assert os.path.basename(earlier) in out, out
    fdb_check(s.dir, salvage=True)
    assert os.path.getsize(earlier) == 17, "--salvage touched an earlier segment"


@fdb_only
def test_salvage_names_the_intact_records_it_drops(durable):
    """Damage in the middle of the newest segment, followed by intact records: --salvage cuts
    at the damage and says how many intact records after it were dropped."""
    s, segs = _two_segments(durable)
    newest = segs[-1]
    seg_name = os.path.basename(newest)
    _, records = parse_segment(newest)
    victim = next(i for i in range(len(records)) if b"new:1" in records[i].payload)
    rec = records[victim]
    flip_byte(newest, rec.start + 17 + (rec.end - rec.start - 17) // 2)
    after = len(records) - victim - 1
    assert after >= 3, records
    rc, out = fdb_check(s.dir)
    assert rc == 1 and rec.start in offsets_named(out, seg_name), out
    rc, out = fdb_check(s.dir, salvage=True)
    assert rc == 0, out
    assert f"{after} intact records after the damage dropped" in out, out
    assert os.path.getsize(newest) == rec.start
    s.start()
    c = s.client()
    assert c.get("new:0") == "w0" and c.get("new:1") is None
    assert c.get(f"old:{N_OLD - 1}") == f"v{N_OLD - 1}"

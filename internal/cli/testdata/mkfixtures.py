#!/usr/bin/env python3
"""Derives kernel.jsonl and nohint.jsonl from fixture.jsonl (see README.md): python3 mkfixtures.py"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
src = [json.loads(l) for l in open(os.path.join(HERE, 'fixture.jsonl'))]
def by(seq): return next(e for e in src if e.get('seq') == seq)
fadv, readv, mmap, ew = by(23), by(24), by(25), by(46)
kw = dict(pid=88, tid=88, comm="kworker/u8:3")
me = dict(pid=5995, tid=5995, comm="fixture")
def kev(seq, ts, who, name, args, cause=None, notes=None):
    e = {"type": "kernel", "seq": seq, "ts_ns": ts}
    e.update(who); e["name"] = name; e["args"] = args
    if cause: e["cause_seq"] = cause
    if notes: e["notes"] = notes
    return e
def adds(seq0, t0, cause, idx):
    return [kev(seq0+i, t0+i*4000, me, "mm_filemap_add_to_page_cache", dict(i_ino=1704, index=j, s_dev="259:1", order=0), cause) for i, j in enumerate(idx)]

def with_hint():
    out = []
    for e in src:
        if e.get('seq') == 23:
            t = fadv['ts_ns']
            # raw emission order: the work inside fadvise64 comes before its exit record
            out += adds(1001, t+5000, 23, [0, 1, 2, 3])
            out.append(kev(1005, t+22000, me, "block_rq_issue", dict(dev="259:1", sector=2048, nr_sector=16, bytes=8192, ioprio=16388, rwbs="RA", comm="fixture"), 23))
            out.append(kev(1012, t+24000, me, "block_rq_issue", dict(dev="259:1", sector=2064, nr_sector=16, bytes=8192, ioprio=16388, rwbs="RA", comm="fixture"), 23))
            out.append(e)
            out.append(kev(1006, t+fadv['dur_ns']+20000, kw, "block_rq_complete", dict(dev="259:1", sector=2048, nr_sector=16, error=0, ioprio=16388, rwbs="RA"), 23,
                           ["the readahead fadvise started completed after fadvise64 returned"]))
            out.append(kev(1013, t+fadv['dur_ns']+26000, kw, "block_rq_complete", dict(dev="259:1", sector=2064, nr_sector=16, error=0, ioprio=16388, rwbs="RA"), 23))
            continue
        out.append(e)
        if e.get('seq') == 25:
            out.append(kev(1007, mmap['ts_ns']+mmap['dur_ns']+150000, me, "page_fault_user", {"address": 140595449217024, "ip": 4259418, "error_code": 4}, 25, ["first touch of page 1 of the mapping: already cached by WILLNEED, no I/O"]))
        if e.get('seq') == 46:
            # annotated order: after the call it belongs to
            out.append(kev(1008, ew['ts_ns']+9000, me, "sched_blocked", {"off_cpu_ns": 3460000}, 46, ["blocked 3.46 ms: the timeout expired"]))
    return out

def without_hint():
    out = []
    for e in src:
        s = e.get('seq')
        if s == 23:
            continue  # no fadvise64
        if s == 24:
            e = dict(e); e['dur_ns'] = 61000
            e['notes'] = ["cold cache: readv waited for the pages to be read"]
            t = e['ts_ns']
            out += adds(1001, t+5000, 24, [0, 1, 2, 3, 4, 5, 6, 7])
            out.append(kev(1009, t+40000, me, "block_rq_issue", dict(dev="259:1", sector=2048, nr_sector=64, bytes=32768, ioprio=16388, rwbs="RA", comm="fixture"), 24))
            out.append(kev(1010, t+55000, kw, "block_rq_complete", dict(dev="259:1", sector=2048, nr_sector=64, error=0, ioprio=16388, rwbs="RA"), 24))
            out.append(kev(1011, t+41000, me, "sched_blocked", {"off_cpu_ns": 13000, "waker_pid": 88, "waker_tid": 88, "waker_comm": "kworker/u8:3", "waker_kthread": True}, 24))
            out.append(e)
            continue
        if s == 25:
            out.append(e)
            out.append(kev(1007, e['ts_ns']+e['dur_ns']+150000, me, "page_fault_user", {"address": 140595449217024, "ip": 4259418, "error_code": 4}, 25))
            continue
        out.append(e)
    # the summary no longer matches: drop it and let the reader recount (a cut-short recording)
    return out

def resummarize(evs):
    hdr = evs[0]; body = [e for e in evs[1:] if e['type'] != 'summary']; old = evs[-1]
    stats = {}; end = hdr['start_ns']
    for e in body:
        t = e['ts_ns']
        if e['type'] == 'syscall':
            st = stats.setdefault(e['name'], {"name": e['name'], "calls": 0, "errors": 0, "total_ns": 0})
            st['calls'] += 1; st['total_ns'] += e['dur_ns']
            if e.get('errno'): st['errors'] += 1
            t += e['dur_ns']
        end = max(end, t)
    summ = {"type": "summary", "events": len(body), "lost": 0, "syscalls": [stats[k] for k in sorted(stats)], "exit_code": old.get('exit_code', 0), "duration_ns": end - hdr['start_ns']}
    return [hdr] + body + [summ]

def renumber(evs):
    """Seqs in file order, as the annotator stamps them; cause_seq follows its syscall."""
    new, n = {}, 0
    body = [e for e in evs if e['type'] not in ('header', 'summary')]
    for e in body:
        n += 1
        if e['type'] == 'syscall':
            new[e['seq']] = n
    out, n = [], 0
    for e in evs:
        e = dict(e)
        if e['type'] not in ('header', 'summary'):
            n += 1
            e['seq'] = n
        if 'cause_seq' in e:
            e['cause_seq'] = new.get(e['cause_seq'], e['cause_seq'])
        out.append(e)
    return out

def dump(path, evs, keep_summary):
    with open(path, 'w') as fo:
        for e in resummarize(renumber(evs)):
            fo.write(json.dumps(e, separators=(',', ':'), ensure_ascii=False) + "\n")

dump(os.path.join(HERE, 'kernel.jsonl'), with_hint(), True)
nh = without_hint()
dump(os.path.join(HERE, 'nohint.jsonl'), nh, True)

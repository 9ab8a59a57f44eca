"""Seeds for the calibration_folder fuzz target: pairs and triples of files cut from
synth_logs folders (the first ~3 KB of a tracking log at a line end, and the message trace,
detailed report or export rows of the same message ids), in the target's layout (a flags byte,
four name bytes, the files separated by the line @@FILE@@).

    python3 fuzz/folder_seeds.py fuzz/corpus/calibration_folder /tmp/fz/a /tmp/fz/b ...
"""
import glob, os, re, sys
MARK = b"\n@@FILE@@\n"
out = sys.argv[1]
roots = sys.argv[2:]
def head(path, n=3000):
    b = open(path, 'rb').read()
    if len(b) <= n: return b
    cut = b.rfind(b"\n", 0, n)
    return b[:cut + 1]
def ids(chunk):
    return set(re.findall(rb"<[0-9a-f]{16,}@[^>,\"]+>", chunk))
def joined(tr_paths, chunk, n=3000):
    want = ids(chunk)
    lines = []
    hdr = None
    for p in tr_paths:
        for i, l in enumerate(open(p, 'rb')):
            if i == 0 or l.startswith(b"#TYPE") or (hdr is None and l.startswith(b'"') and not l[:20].count(b"@")):
                if hdr is None: hdr = l
                continue
            if any(w in l for w in want): lines.append(l)
    body = hdr + b"".join(lines)
    return body[:n] if len(body) <= n else body[:body.rfind(b"\n", 0, n) + 1]
NAMES = {"MSGTRK2026030209-1.LOG":0, "MSGTRK2026030210-1.LOG":1, "MSGTRKMS2026030209-1.LOG":2,
         "MSGTRKMD2026030208-1.LOG":3, "MessageTrace.csv":8, "DetailedReport.csv":10, "export.csv":11}
seeds = {}
def seed(name, flags, files):
    # files: list of (name, bytes)
    b = bytes([flags]) + bytes([NAMES[n] for n, _ in files] + [0]*(4-len(files))) + MARK.join(x for _, x in files)
    seeds[name] = b
for root in roots:
    d = os.path.basename(root.rstrip("/"))

    trk = sorted(glob.glob(f"{root}/EX01/MSGTRK2026030209-1.LOG"))
    hub = sorted(glob.glob(f"{root}/HUB01/MSGTRK2026030209-1.LOG")) or sorted(glob.glob(f"{root}/EX02/MSGTRK2026030209-1.LOG"))
    tr = sorted(glob.glob(f"{root}/trace/*.csv"))
    det = sorted(glob.glob(f"{root}/detailed/*.csv"))
    exp = sorted(glob.glob(f"{root}/export/*.csv"))
    one = sorted(glob.glob(f"{root}/EX01/MSGTRK2026030200-1.LOG"))
    if not trk: trk = sorted(glob.glob(f"{root}/EX01/MSGTRK*.LOG"))[:1]
    if trk:
        c = head(trk[0])
        if tr: seed(f"{d}-trk-trace", 1, [("MSGTRK2026030209-1.LOG", c), ("MessageTrace.csv", joined(tr, c))])
        if tr: seed(f"{d}-trk-trace-files", 2, [("MSGTRK2026030209-1.LOG", c), ("MessageTrace.csv", joined(tr, c))])
        if hub: seed(f"{d}-trk-hub", 0, [("MSGTRK2026030209-1.LOG", c), ("MSGTRK2026030210-1.LOG", head(hub[0]))])
        if det: seed(f"{d}-trk-detailed", 1, [("MSGTRK2026030209-1.LOG", c), ("DetailedReport.csv", joined(det, c))])
        if hub and tr: seed(f"{d}-three", 1, [("MSGTRK2026030209-1.LOG", c), ("MSGTRKMS2026030209-1.LOG", head(hub[0], 1500)), ("MessageTrace.csv", joined(tr, c, 2000))])
    if exp and tr:
        c = head(exp[0])
        seed(f"{d}-export-trace", 1, [("export.csv", c), ("MessageTrace.csv", joined(tr, c))])
    if tr and det:
        seed(f"{d}-trace-detailed-mixed", 0, [("MessageTrace.csv", head(tr[0])), ("DetailedReport.csv", head(det[0]))])
for k, v in seeds.items():
    open(os.path.join(out, k), 'wb').write(v)
    print(k, len(v))

#!/usr/bin/env python3
"""Line coverage of each parser from a coverlet cobertura report: coverage.py MODE coverage.cobertura.xml"""
import sys
import xml.etree.ElementTree as ET

GROUPS = [
    ("TS demuxer", ["SiteWatch.Video/Ts/TsDemuxer.cs", "SiteWatch.Video/Ts/TsTypes.cs", "SiteWatch.Video/Ts/Crc32Mpeg.cs"]),
    ("KLV decode", ["SiteWatch.Video/Klv/"]),
    ("KLV dump", ["SiteWatch.Video/Klv/KlvDump.cs"]),
    ("AOI reader", ["SiteWatch.Core/Geo/AoiReader.cs"]),
    ("zones file", ["SiteWatch.Video/Watch/WatchZoneFile.cs"]),
    ("STAC reader", ["SiteWatch.Core/Ingest/SceneMetadata.cs"]),
    ("alert rules", ["SiteWatch.Core/Alerts/AlertRules.cs"]),
]
# Writers are not parsers: left out of the KLV figure.
EXCLUDE = ["KlvEncoder.cs", "KlvPackEncoders.cs", "KlvDump.cs"]

mode, path = sys.argv[1], sys.argv[2]
lines = {}
for cls in ET.parse(path).getroot().iter("class"):
    name = cls.get("filename").replace("\\", "/")
    for line in cls.iter("line"):
        key = (name, line.get("number"))
        lines[key] = max(lines.get(key, 0), int(line.get("hits")))

print(f"line coverage replaying {'the built-in seeds' if mode == 'seeds' else 'seeds + corpus'}:")
for label, patterns in GROUPS:
    sel = [(k, h) for k, h in lines.items()
           if any(p in k[0] for p in patterns) and (label == "KLV dump" or not any(k[0].endswith(e) for e in EXCLUDE))]
    covered = sum(1 for _, h in sel if h > 0)
    total = len(sel)
    print(f"  {label:12s} {covered:5d} / {total:5d} lines  {100.0 * covered / max(total, 1):5.1f} %")

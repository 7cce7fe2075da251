"""OWSLib (Debian's python3-owslib) as an OGC API - Features client of /ogc: landing page,
conformance, collections, queryables, items filtered in CQL2 text, one item, and a CRS request
whose coordinates must match what gdaltransform (PROJ) computes from the CRS84 ones."""
import os
import subprocess
import unittest

import owslib
from owslib.ogcapi.features import Features

BASE = os.environ["GEOPORTAL_BASE"].rstrip("/") + "/ogc"
CONF = "http://www.opengis.net/spec/"
EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
EPSG32640 = "http://www.opengis.net/def/crs/EPSG/0/32640"


class OWSLibFeatures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        print("owslib", owslib.__version__)
        cls.api = Features(BASE, timeout=60)

    def test_landing(self):
        rels = {l["rel"] for l in self.api.links}
        for rel in ("self", "service-desc", "conformance", "data"):
            self.assertIn(rel, rels)

    def test_conformance(self):
        got = set(self.api.conformance()["conformsTo"])
        for c in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                  "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-3/1.0/conf/filter",
                  "ogcapi-features-3/1.0/conf/features-filter", "cql2/1.0/conf/cql2-text",
                  "ogcapi-features-2/1.0/conf/crs"):
            self.assertIn(CONF + c, got)

    def test_collections(self):
        ids = [c["id"] for c in self.api.collections()["collections"]]
        self.assertIn("cameras", ids)
        # OWSLib keeps the collections whose itemType is feature: all of ours.
        self.assertEqual(sorted(self.api.feature_collections()), sorted(ids))
        c = self.api.collection("cameras")
        self.assertEqual(c["id"], "cameras")
        self.assertEqual(len(c["extent"]["spatial"]["bbox"][0]), 4)

    def test_queryables(self):
        q = self.api.collection_queryables("cameras")
        self.assertIn("status", q["properties"])
        self.assertIn("geom", q["properties"])

    def test_items_filter_cql2_text(self):
        every = self.api.collection_items("cameras", limit=10000)
        installed = [f for f in every["features"] if f["properties"]["status"] == "installed"]
        self.assertGreater(len(installed), 0)
        self.assertLess(len(installed), len(every["features"]))
        got = self.api.collection_items("cameras", filter="status = 'installed' AND owner <> 'nobody'",
                                        limit=10000)
        self.assertEqual(got["numberMatched"], len(installed))
        self.assertEqual(sorted(f["id"] for f in got["features"]), sorted(f["id"] for f in installed))
        # A spatial CQL2 predicate: a box around the first installed camera holds it.
        x, y = installed[0]["geometry"]["coordinates"]
        near = self.api.collection_items(
            "cameras", limit=10000,
            filter=f"status = 'installed' AND S_INTERSECTS(geom, BBOX({x-0.001}, {y-0.001}, {x+0.001}, {y+0.001}))")
        self.assertIn(installed[0]["id"], [f["id"] for f in near["features"]])
        self.assertLess(len(near["features"]), len(installed))
        with self.assertRaises(RuntimeError) as bad:
            self.api.collection_items("cameras", filter="no_such_property = 1")
        self.assertIn("no_such_property", str(bad.exception))

    def test_one_item(self):
        page = self.api.collection_items("schools", limit=3)
        want = page["features"][2]
        got = self.api.collection_item("schools", str(want["id"]))
        self.assertEqual(got["type"], "Feature")
        self.assertEqual(got["id"], want["id"])
        self.assertEqual(got["geometry"], want["geometry"])
        self.assertEqual(got["properties"], want["properties"])

    def test_crs_matches_gdaltransform(self):
        plain = self.api.collection_items("schools", limit=5)["features"]
        for crs, srs in ((EPSG3857, "EPSG:3857"), (EPSG32640, "EPSG:32640")):
            with self.subTest(crs=crs):
                moved = self.api.collection_items("schools", limit=5, crs=crs)["features"]
                self.assertEqual([f["id"] for f in moved], [f["id"] for f in plain])
                lines = "".join(f"{f['geometry']['coordinates'][0]} {f['geometry']['coordinates'][1]}\n"
                                for f in plain)
                out = subprocess.run(["gdaltransform", "-s_srs", "OGC:CRS84", "-t_srs", srs],
                                     input=lines, capture_output=True, text=True, check=True, timeout=60)
                want = [tuple(map(float, l.split()[:2])) for l in out.stdout.splitlines()]
                self.assertEqual(len(want), len(moved))
                for f, (wx, wy) in zip(moved, want):
                    gx, gy = f["geometry"]["coordinates"][:2]
                    # Centimetres: our coordinates are rounded for output, PROJ's are not.
                    self.assertAlmostEqual(gx, wx, delta=0.05, msg=f"feature {f['id']} x in {srs}")
                    self.assertAlmostEqual(gy, wy, delta=0.05, msg=f"feature {f['id']} y in {srs}")


if __name__ == "__main__":
    unittest.main(verbosity=2)

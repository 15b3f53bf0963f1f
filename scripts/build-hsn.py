#!/usr/bin/env python3
"""Builds crates/irp-protocol/data/hsn.txt, the HSN/SAC master the INV-01 validator checks
HsnCd against (NIC code 2176).

Source: the GST HSN/SAC master (codes of 4, 6 and 8 digits, services under chapter 99) as
redistributed in resilient-tech/india-compliance, india_compliance/gst_india/data/hsn_codes.json.
Only the codes are kept, not the descriptions. Usage:
  scripts/build-hsn.py <path to hsn_codes.json> <source commit> <source date>
"""
import json
import sys

codes = sorted({str(entry['hsn_code']).strip() for entry in json.load(open(sys.argv[1]))})
codes = [c for c in codes if c.isdigit() and len(c) in (4, 6, 8)]
with open('crates/irp-protocol/data/hsn.txt', 'w') as out:
    out.write('# HSN/SAC master of the INV-01 validator: one code of 4, 6 or 8 digits per line.\n')
    out.write('# Built by scripts/build-hsn.py from the GST HSN/SAC master as redistributed in\n')
    out.write(f'# resilient-tech/india-compliance (india_compliance/gst_india/data/hsn_codes.json,\n')
    out.write(f'# commit {sys.argv[2]}, {sys.argv[3]}); codes only, {len(codes)} of them.\n')
    for code in codes:
        out.write(code + '\n')

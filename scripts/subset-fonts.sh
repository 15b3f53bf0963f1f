#!/usr/bin/env bash
# Makes the fonts embedded in printed e-invoices: DejaVu Sans (Debian fonts-dejavu-core 2.37,
# Bitstream Vera licence) cut to the characters an e-invoice prints (Basic Latin, Latin-1,
# dashes, quotes, bullet, ellipsis, the rupee sign), so that each PDF carries ~30 KB of font
# instead of ~400 KB. Needs fonttools (`pip install fonttools`). Run from the repository root.
set -euo pipefail
out=crates/gateway/assets/fonts
for face in DejaVuSans DejaVuSans-Bold; do
  pyftsubset "/usr/share/fonts/truetype/dejavu/${face}.ttf" \
    --unicodes='U+0020-007E,U+00A0-00FF,U+2013-2014,U+2018-201D,U+2022,U+2026,U+20B9' \
    --layout-features='kern,liga' --no-hinting --desubroutinize \
    --output-file="${out}/${face}-einvoice.ttf"
done

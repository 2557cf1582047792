#!/usr/bin/env bash
# Regenerates the checked-in man pages (man/) and shell completions
# (completions/) from the clap definition. Run it after changing any
# command or flag; tests/docs_generated.rs fails until you do.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin strom
bin=${CARGO_TARGET_DIR:-target}/debug/strom

# Start clean so pages of removed commands disappear.
rm -rf man completions
"$bin" generate man man
"$bin" generate completions completions
echo "regenerated man/ and completions/" >&2

#!/usr/bin/env bash
# Compare `pricing analyze` with the anchors named in issue 2 on the same generated 3M-triangle binary
# STL, in one run: wall time (best of N; pricing and admesh runs interleaved) and peak memory, and the
# ratios (of the bests, and the median of the interleaved pairs). Also MB/s of `pricing analyze`
# for OBJ, ASCII STL and GLB. It installs nothing: a missing anchor is reported with how to get it.
#
#   benches/compare.sh [TRIANGLES] [RUNS]      (defaults: 3000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/alexandrite-target}"
triangles=${1:-3000000}
runs=${2:-3}
data=bench-data
mkdir -p "$data"

cargo build --release --quiet --bin pricing -p alexandrite
cargo build --release --quiet -p fixtures --bin gen-fixtures
bin="$CARGO_TARGET_DIR/release"

ring="$data/ring-$triangles"
if [[ ! -f "$ring.stl" || ! -f "$ring.obj" || ! -f "$ring.ascii.stl" || ! -f "$ring.glb" ]]; then
  echo "generating $ring.{stl,obj,ascii.stl,glb}"
  "$bin/gen-fixtures" --big "$triangles" --out "$data" >/dev/null
fi

# timed CMD...: prints "seconds peak_kib" of one run.
timed() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1; }
# faster NEW BEST: whether run NEW beat BEST (or there is no BEST yet).
faster() { [[ -z "$2" ]] || awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN{exit !(a<b)}'; }

# best_of CMD...: prints "seconds peak_kib" of the fastest of $runs runs.
best_of() {
  local best="" line
  for _ in $(seq "$runs"); do
    line=$(timed "$@")
    if faster "$line" "$best"; then best=$line; fi
  done
  echo "$best"
}

file_mib=$(awk -v b="$(stat -L -c %s "$ring.stl")" 'BEGIN{printf "%.1f", b/1048576}')
echo "workload: full analysis of $ring.stl ($file_mib MiB, $triangles triangles), best of $runs"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN{print k/1024}'; }

if command -v admesh >/dev/null; then
  # Interleaved, one pricing run then one admesh run, so both see the same machine: on a shared virtual
  # machine the speed of both drifts by tens of percent within minutes. The ratio of each adjacent pair is
  # kept, and their median reported beside the ratio of the bests.
  ours="" theirs="" pairs=()
  for _ in $(seq "$runs"); do
    a=$(timed "$bin/pricing" analyze "$ring.stl" --json)
    b=$(timed admesh "$ring.stl")
    pairs+=("$(ratio "${a%% *}" "${b%% *}")")
    if faster "$a" "$ours"; then ours=$a; fi
    if faster "$b" "$theirs"; then theirs=$b; fi
  done
  median=$(printf '%s\n' "${pairs[@]}" | sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')
  printf '%-28s %8.2f s  %8.1f MiB peak\n' "pricing analyze" "${ours%% *}" "$(mib "${ours##* }")"
  printf '%-28s %8.2f s  %8.1f MiB peak   pricing/admesh: time %s (median of %s interleaved pairs %s), memory %s\n' \
    "admesh" "${theirs%% *}" "$(mib "${theirs##* }")" "$(ratio "${ours%% *}" "${theirs%% *}")" "$runs" "$median" \
    "$(ratio "${ours##* }" "${theirs##* }")"
else
  ours=$(best_of "$bin/pricing" analyze "$ring.stl" --json)
  printf '%-28s %8.2f s  %8.1f MiB peak\n' "pricing analyze" "${ours%% *}" "$(mib "${ours##* }")"
  echo "admesh: not installed (apt-get install admesh) — skipped"
fi

if python3 -c 'import trimesh' 2>/dev/null; then
  script='import sys, trimesh
m = trimesh.load(sys.argv[1])
print(m.volume, m.area, m.is_watertight, m.body_count)'
  theirs=$(best_of python3 -c "$script" "$ring.stl")
  printf '%-28s %8.2f s  %8.1f MiB peak   pricing/trimesh: time %s, memory %s\n' "python trimesh" "${theirs%% *}" \
    "$(mib "${theirs##* }")" "$(ratio "${ours%% *}" "${theirs%% *}")" "$(ratio "${ours##* }" "${theirs##* }")"
else
  echo "python trimesh: not installed (pip install trimesh numpy networkx scipy) — skipped"
fi
echo "target: pricing/admesh time <= 0.20, peak memory <= file size ($file_mib MiB)"

echo
echo "throughput of pricing analyze by format (same ring):"
for f in "$ring.stl" "$ring.ascii.stl" "$ring.obj" "$ring.glb"; do
  r=$(best_of "$bin/pricing" analyze "$f" --json)
  mb=$(awk -v b="$(stat -L -c %s "$f")" 'BEGIN{print b/1e6}')
  printf '  %-34s %9.1f MB  %7.2f s  %7.1f MB/s  %8.1f MiB peak\n' "$(basename "$f")" "$mb" "${r%% *}" \
    "$(awk -v m="$mb" -v s="${r%% *}" 'BEGIN{ if (s > 0) print m/s; else print 0 }')" "$(mib "${r##* }")"
done

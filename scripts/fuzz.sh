#!/bin/sh
# Runs the libFuzzer targets built by tests/fuzz.mk, one after the other,
# and prints one TAP-style line per target and run:
#   scripts/fuzz.sh regress 0   build/fuzz [t1,t2]  each target once over
#                                                   its seed corpus
#   scripts/fuzz.sh smoke   SECS build/fuzz [...]   regress, then SECS each
#   scripts/fuzz.sh fuzz    SECS build/fuzz [...]   regress, then SECS each
# Seeds are read from tests/fuzz/corpus/<target>/ and never written to: new
# inputs go to <dir>/work/<target>/, crashes to <dir>/artifacts/<target>/,
# logs to <dir>/logs/. Exits 1 when any target failed.
set -u

mode=$1 secs=$2 dir=$3 only=${4:-}
seeds=tests/fuzz/corpus
passed=0 failed=0

targets=$(cd tests/fuzz && ls *.c | sed 's/\.c$//')
if [ -n "$only" ]; then
        targets=$(echo "$only" | tr ',' ' ')
fi
mkdir -p "$dir/logs" "$dir/work" "$dir/artifacts"

# Prints "cov N ft N execs/s N runs N" from a libFuzzer log.
stats() {
        cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$1" | tail -1)
        eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$1" | tail -1)
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1)
        echo "$cov execs/s: ${eps:-?} runs: ${runs:-?}"
}

# run NAME TARGET ARGS...: one libFuzzer invocation, one result line.
run() {
        name=$1 t=$2
        shift 2
        log="$dir/logs/$t.$name.log"
        mkdir -p "$dir/artifacts/$t"
        if [ ! -x "$dir/$t" ]; then
                echo "not ok - $name $t (no binary $dir/$t)"
                failed=$((failed + 1))
                return
        fi
        if "$dir/$t" -artifact_prefix="$dir/artifacts/$t/" \
            -print_final_stats=1 -timeout=10 -rss_limit_mb=1536 "$@" \
            >"$log" 2>&1; then
                echo "ok - $name $t"
                passed=$((passed + 1))
        else
                echo "not ok - $name $t (log: $log)"
                grep -E 'ERROR:|invariant failed|SUMMARY|Test unit written' \
                    "$log" | head -5 | sed 's/^/#   /'
                failed=$((failed + 1))
        fi
        echo "#   $t: $(stats "$log")"
}

for t in $targets; do
        if [ ! -d "$seeds/$t" ]; then
                echo "not ok - fuzz-regress $t (no seeds in $seeds/$t)"
                failed=$((failed + 1))
                continue
        fi
        run fuzz-regress "$t" -runs=0 "$seeds/$t"
done
if [ "$mode" != regress ]; then
        for t in $targets; do
                mkdir -p "$dir/work/$t"
                dict=""
                [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
                run fuzz "$t" -max_total_time="$secs" $dict \
                    "$dir/work/$t" "$seeds/$t"
        done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

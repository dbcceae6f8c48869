#!/bin/sh
# Known-optimal schedules via round 8's window CNF (restricted "who may break" sets from round 8).
S=../window_cnf.py; D=/work/shared/benchmarks/b2b-jair2022
run() { name=$1; shift; python3 $S $D/$name.original.dzn "$@" > opt-$name.cnf
  /usr/bin/time -f "$name %e s" taskset -c 1 cadical -q opt-$name.cnf > opt-$name.out 2>> opt-times.txt
  python3 $S $D/$name.original.dzn "$@" --check opt-$name.out >> opt-times.txt 2>&1; }
run ticf-13crafb --breaks 3 --allowed 4,10,20,23,37,41
run forum-13crafc --breaks 1
run ticf-13crafc --breaks 1
run forum-13crafb --breaks 6 --allowed 12,14,16,23,25,30,37,39,41

#!/usr/bin/env bash
# run-libfuzzer.sh — coverage-guided fuzzing of every parser of outside
# input with libFuzzer (clang -fsanitize=fuzzer,address,undefined).
#
# usage: tests/fuzz/run-libfuzzer.sh [SECONDS_PER_TARGET] [OUT_DIR]
# Prints TAP (one case per target). A crash leaves its reproducer in
# OUT_DIR/crash-* and the case fails. New interesting inputs are kept in
# OUT_DIR/corpus-<target> (not committed), the committed seeds stay as they are.
set -euo pipefail
secs=${1:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(realpath -m "${2:-$root/build-fuzz}")
mkdir -p "$out"
inc="-I$root/runtime -I$root/actors -I$root/actors/common -I$root/actors/telegram -I$root/actors/texts -I$root/actors/conversation -I$root/actors/orders -I$root/actors/ozon -I$root/actors/notify -I$root/actors/broadcast -I$root/web -I$root/actors/payments -I$root/actors/couriers"
flags="-g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

# target -> the sources it needs besides its own file
declare -A deps=(
  [tg_update]="actors/telegram/tg_update.c"
  [phone]="actors/common/phone.c"
  [logistics]="actors/orders/logistics_event.c actors/orders/order_status.c actors/common/timefmt.c actors/common/posting.c actors/common/phone.c"
  [ozon_posting]="actors/orders/ozon_posting.c actors/ozon/ozon_api.c actors/common/phone.c actors/common/posting.c"
  [booking_cb]="actors/conversation/conv_booking_cb.c actors/common/posting.c"
  [dash_params]="web/web_dash_params.c actors/orders/order_status.c actors/common/posting.c actors/texts/texts.c"
  [conv_dialog]="actors/conversation/conv_dialog.c actors/conversation/conv_track.c actors/conversation/conv_form.c actors/conversation/conv_broadcast.c actors/conversation/conv_pickup.c actors/conversation/conv_booking.c actors/conversation/conv_booking_cb.c actors/conversation/conv_watch.c actors/conversation/conv_dashlink.c actors/conversation/conv_courier.c actors/conversation/conv_courier_client.c actors/conversation/conv_courier_ops.c actors/conversation/conv_courier_shared.c actors/couriers/route.c actors/conversation/conv_features.c actors/telegram/tg_update.c actors/telegram/tg_markup.c actors/texts/texts.c actors/common/phone.c actors/common/posting.c actors/common/utf8.c actors/common/timefmt.c actors/orders/order_status.c actors/orders/geo.c actors/notify/template.c actors/conversation/conv_pay.c actors/payments/pay_yk.c actors/payments/pay_qr.c"
  [pay_yk]="actors/payments/pay_yk.c"
  [notify]="actors/notify/notify_render.c actors/notify/smsru.c actors/notify/template.c actors/telegram/tg_markup.c actors/texts/texts.c actors/common/phone.c actors/common/timefmt.c"
)
# a target's source file: tests/fuzz/fuzz_<t>.c, or where its suite keeps it
declare -A src=([notify]="tests/notify/fuzz_notify.c" [dash_params]="tests/dash/fuzz_dash_params.c" [pay_yk]="tests/payments/fuzz_pay_yk.c")
targets=$(printf '%s\n' "${!deps[@]}" | sort)
echo "1..$(echo "$targets" | wc -l)"
i=0 failed=0
for t in $targets; do
  i=$((i + 1))
  exe="$out/fuzz_$t"
  srcs=""
  for s in ${deps[$t]}; do srcs="$srcs $root/$s"; done
  main_src=$root/${src[$t]:-tests/fuzz/fuzz_$t.c}
  if ! clang $flags $inc "$main_src" $srcs -lcjson -lqrencode -lpng -lm -o "$exe" 2>"$out/build_$t.log"; then
    echo "not ok $i - libfuzzer $t (build failed, see $out/build_$t.log)"
    failed=$((failed + 1))
    continue
  fi
  mkdir -p "$out/corpus-$t"
  seeds=$root/tests/fuzz/corpus/$t
  [[ -d $seeds ]] || seeds=$(dirname "$main_src")/corpus/$t
  if (cd "$out" && "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "$out/corpus-$t" "$seeds" >"$out/run_$t.log" 2>&1); then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/run_$t.log" | grep -o '[0-9]*$' || echo '?')
    echo "ok $i - libfuzzer $t (${secs}s, $execs executions)"
  else
    echo "not ok $i - libfuzzer $t (see $out/run_$t.log)"
    tail -30 "$out/run_$t.log" | sed 's/^/# /'
    failed=$((failed + 1))
  fi
done
exit $((failed > 0))

;; Fuel: an endless loop, and a finite loop whose cost must be the same on every run.
(module
  (func (export "spin")
    (loop $forever (br $forever)))
  (func (export "count") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc)))

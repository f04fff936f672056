;; Imports everything provider.wat exports; its segments write into the shared memory and table.
(module
  (import "prov" "mem" (memory 1))
  (import "prov" "tab" (table 4 funcref))
  (import "prov" "counter" (global $c (mut i32)))
  (import "prov" "forty_two" (func $ft (result i32)))
  (func $seven (result i32) (i32.const 7))
  (elem (i32.const 1) $seven)
  (data (i32.const 100) "\2a")
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "sum") (result i32) (i32.add (call $ft) (global.get $c)))
)

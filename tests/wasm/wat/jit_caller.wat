;; Calls an imported wasm function (of another instance) directly and through a table.
(module
  (import "callee" "twice" (func $twice (param i32) (result i32)))
  (import "callee" "trap" (func $trap (param i32) (result i32)))
  (type $ii (func (param i32) (result i32)))
  (table funcref (elem $twice $trap))
  (func (export "direct") (param i32) (result i32) (i32.add (call $twice (local.get 0)) (i32.const 1)))
  (func (export "via_table") (param i32 i32) (result i32)
    (call_indirect (type $ii) (local.get 0) (local.get 1))))

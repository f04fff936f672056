;; Exports a memory, a table, a mutable global and functions for linking tests.
(module
  (memory (export "mem") 1 2)
  (table (export "tab") 4 8 funcref)
  (global (export "counter") (mut i32) (i32.const 0))
  (func $forty_two (export "forty_two") (result i32) (i32.const 42))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "call_slot") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
  (func (export "bump") (result i32)
    (global.set 0 (i32.add (global.get 0) (i32.const 1))) (global.get 0))
  (elem (i32.const 0) $forty_two)
)

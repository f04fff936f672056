;; Exports a function another instance calls across instances (and tiers) in test_jit.c.
(module
  (memory (export "mem") 1)
  (func (export "twice") (param i32) (result i32)
    (i32.store (i32.const 8) (local.get 0))
    (i32.mul (local.get 0) (i32.const 2)))
  (func (export "trap") (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 0))))

;; Cases aimed at the translator's virtual stack: values still held in locals while the local is
;; overwritten, constants as operands, results moved into block slots, multi-value returns that
;; permute locals, loop parameters, and the fused superinstructions.
(module
  (memory 1)
  ;; the old value of a local survives a later local.set (inside a block too)
  (func (export "stale_local") (param i32) (result i32)
    (local.get 0)
    (local.set 0 (i32.const 100))
    (local.get 0)
    (i32.add))                                   ;; p + 100
  (func (export "stale_in_block") (param i32) (result i32)
    (local.get 0)
    (block (local.set 0 (i32.mul (local.get 0) (i32.const 3))))
    (local.get 0)
    (i32.sub))                                   ;; p - 3p = -2p
  ;; local.tee folded into the producer while the local is also an operand
  (func (export "tee_self") (param i32) (result i32)
    (i32.add (local.tee 0 (i32.add (local.get 0) (local.get 0))) (local.get 0)))  ;; 4p
  ;; multi-value return that swaps locals
  (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
  (func (export "swap_sub") (param i32 i32) (result i32)
    (call $swap (local.get 0) (local.get 1)) (i32.sub))   ;; b - a
  (func (export "ret_swap") (param i64 i64) (result i64 i64)
    (return (local.get 1) (local.get 0)))
  ;; block results with values below them and a br_if carrying a value
  (func (export "br_if_value") (param i32) (result i32)
    (i32.const 1000)
    (block (result i32)
      (br_if 0 (i32.const 7) (local.get 0))
      (drop)
      (i32.const 9))
    (i32.add))                                   ;; p != 0 ? 1007 : 1009
  ;; br_table to targets of different depths, with a value, from a loop
  (func (export "table") (param i32) (result i32)
    (block (result i32)
      (block (result i32)
        (block (result i32)
          (br_table 0 1 2 (i32.const 10) (local.get 0)))
        (i32.add (i32.const 1)))
      (i32.add (i32.const 2))))                  ;; 0 -> 13, 1 -> 12, else -> 10
  ;; loop with parameters: sum 1..n carried on the stack
  (func (export "loop_params") (param i32) (result i32)
    (i32.const 0) (local.get 0)
    (loop (param i32 i32) (result i32)
      (local.set 0)                              ;; counter
      (i32.add (local.get 0))                    ;; acc += counter
      (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if 0 (i32.ne (local.get 0) (i32.const 0)))
      (drop)))                                   ;; 1 + 2 + ... + n
  ;; if with parameters: both arms read the parameters
  (func (export "if_params") (param i32 i32) (result i32)
    (local.get 0) (local.get 1)
    (i32.mul (i32.const 2) (i32.const 3))
    (drop)
    (if (param i32 i32) (result i32) (i32.lt_s (local.get 0) (local.get 1))
      (then (i32.sub))
      (else (i32.add))))                         ;; a < b ? a - b : a + b
  ;; select with constants, compare+branch with an immediate on the left
  (func (export "select_const") (param i32) (result i32)
    (select (i32.const 11) (i32.const 22) (i32.gt_u (i32.const 5) (local.get 0))))
  ;; memory access with the address folded (base + const and base + index) and const addresses
  (func (export "mem") (param i32 i32) (result i64)
    (i64.store (i32.add (local.get 0) (i32.const 8)) (i64.const 0x1122334455667788))
    (i32.store8 (i32.add (local.get 0) (local.get 1)) (i32.const 0xAB))
    (i64.store (i32.const 64) (i64.load (i32.add (local.get 0) (i32.const 8))))
    (i64.load (i32.const 64)))
  ;; an address add that wraps: (0xFFFFFFF8 + 16) wraps to 8, which is in bounds
  (func (export "wrap") (result i32)
    (i32.store (i32.const 8) (i32.const 77))
    (i32.load (i32.add (i32.const -8) (i32.const 16))))
  (func (export "wrap_local") (param i32) (result i32)
    (i32.store (i32.const 8) (i32.const 78))
    (i32.load (i32.add (local.get 0) (i32.const 16))))
  ;; an effective address beyond 4 GiB traps instead of wrapping
  (func (export "oob_offset") (param i32) (result i32)
    (i32.load offset=0xFFFFFFF0 (local.get 0)))
  ;; i64 eqz fused into br_if
  (func (export "eqz64") (param i64) (result i32)
    (block (br_if 0 (i64.eqz (local.get 0))) (return (i32.const 1)))
    (i32.const 0))
  ;; two moves in a row across a loop back-edge (rotation of three locals)
  (func (export "rotate") (param i32) (result i32) (local i32 i32 i32)
    (local.set 1 (i32.const 1)) (local.set 2 (i32.const 2)) (local.set 3 (i32.const 3))
    (loop $l
      (local.get 1) (local.get 2) (local.get 3)
      (local.set 1) (local.set 3) (local.set 2)
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (i32.add (i32.mul (local.get 1) (i32.const 100))
             (i32.add (i32.mul (local.get 2) (i32.const 10)) (local.get 3))))
)

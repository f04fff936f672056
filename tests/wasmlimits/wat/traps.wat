;; One function per trap kind. Two imports come first so function indices are offset by 2:
;; the test checks the reported func_index of each trap.
(module
  (import "env" "host_trap" (func $host_trap))          ;; func 0
  (import "env" "host_exit" (func $host_exit))          ;; func 1
  (type $v_i (func (result i32)))
  (type $i_i (func (param i32) (result i32)))
  (memory 1)
  (table $t 3 funcref)
  (elem (table $t) (i32.const 0) func $ret7 $ret7)      ;; slot 2 stays null
  (func $ret7 (type $v_i) (i32.const 7))                ;; func 2
  (func (export "unreachable") (unreachable))           ;; func 3
  (func (export "memory_oob") (result i32)              ;; func 4
    (i32.load (i32.const 65533)))
  (func (export "table_oob") (result funcref)           ;; func 5
    (table.get $t (i32.const 3)))
  (func (export "undefined_element") (result i32)       ;; func 6
    (call_indirect $t (type $v_i) (i32.const 3)))
  (func (export "uninit_element") (result i32)          ;; func 7
    (call_indirect $t (type $v_i) (i32.const 2)))
  (func (export "indirect_mismatch") (result i32)       ;; func 8
    (call_indirect $t (type $i_i) (i32.const 5) (i32.const 0)))
  (func (export "int_overflow") (result i32)            ;; func 9
    (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "div_zero") (result i32)                ;; func 10
    (i32.rem_u (i32.const 1) (i32.const 0)))
  (func (export "invalid_conversion") (result i32)      ;; func 11
    (i32.trunc_f32_s (f32.const nan)))
  (func (export "host_trap") (call $host_trap))         ;; func 12
  (func (export "host_exit") (call $host_exit))         ;; func 13
  (func $inner (unreachable))                           ;; func 14
  (func (export "nested") (call $inner)))               ;; func 15

;; bomb.wat - a memory bomb: grows its memory a page at a time until memory.grow says no, then
;; touches the last byte it got; and asks for everything at once.
(module
  (memory (export "mem") 1)
  (func (export "grow_all") (result i32)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (i32.store8 (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1)) (i32.const 1))
    (memory.size))
  (func (export "grow_max") (result i32) (memory.grow (i32.const 65535))))

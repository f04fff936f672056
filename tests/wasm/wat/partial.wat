;; Instantiation that traps part-way: the first data segment lands in the imported memory, the
;; second is out of bounds (WebAssembly 2.0 keeps the first write).
(module
  (import "prov" "mem" (memory 1))
  (data (i32.const 200) "\63")
  (data (i32.const 65535) "\01\02")
)

;; A well-formed module the malformed-input tests patch.
(module (func (export "f") (result i32) (i32.const 42)))

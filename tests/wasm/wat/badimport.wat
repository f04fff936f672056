;; Imports that do not match provider.wat's exports.
(module (import "prov" "mem" (memory 3)))

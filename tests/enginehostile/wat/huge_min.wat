;; huge_min.wat - declares 4 GiB of memory up front.
(module (memory 65536))

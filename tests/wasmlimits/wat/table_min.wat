;; Declares 1000 table elements: more than the limit the test sets.
(module (table 1000 funcref))

;; Declares 100 pages: more than the limit the test sets.
(module (memory 100))

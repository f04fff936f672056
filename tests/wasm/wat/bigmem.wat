(module (memory 20) (table 100 funcref))

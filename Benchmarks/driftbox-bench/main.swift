print("driftbox-bench")

print("usage: rosy COMMAND (not built yet)")

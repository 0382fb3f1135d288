print("usage: rosy-launch FILE (not built yet)")

print("certkeeper")

// Rosy

import Rosy

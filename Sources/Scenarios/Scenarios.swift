import GitStore
import Checks

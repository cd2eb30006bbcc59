from pyqhn.cli import main

main()

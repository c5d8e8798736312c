from timberyard.cli import main

main()

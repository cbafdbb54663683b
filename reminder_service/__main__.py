from reminder_service.cli import main

main()

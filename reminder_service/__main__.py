from reminder_service.adapters.cli import main

main()

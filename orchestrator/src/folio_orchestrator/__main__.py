from folio_orchestrator import main

main()

from folio_memory import main

main()

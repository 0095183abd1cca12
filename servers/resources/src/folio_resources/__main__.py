from folio_resources import main

main()

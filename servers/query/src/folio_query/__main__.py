from folio_query import main

main()

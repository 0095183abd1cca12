from folio_projects import main

main()

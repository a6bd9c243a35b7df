class Db {
  const string Conn = "Server=tcp:sql01,1433;Database=crm;User Id=sa;Password=NyBEeqZQGoCu2E!;";
}
